package main

import (
	"context"
	"errors"
	"io"
)

func runCurve(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	return errors.New("curve: not implemented yet")
}
