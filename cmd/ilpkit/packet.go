package main

import (
	"context"
	"errors"
	"io"
)

func runPacket(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	return errors.New("packet: not implemented yet")
}
