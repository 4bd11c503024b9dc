package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIProfilePicture: in Settings a user uploads a profile picture; a
// file that is no image, and one above 1 MiB, are refused next to the
// field; the picture is stored as uploaded, shown in Settings, and
// shown to someone who is about to pay that user.
func TestUIProfilePicture(t *testing.T) {
	exe := chromiumPath(t)
	base, _ := uiKit(t)
	pub := newAPIClient(t, base)
	for _, u := range []string{"carol", "alice"} {
		if code := pub.call("POST", "/api/users/"+u, map[string]string{"password": u + "-password"}, nil); code != 201 {
			t.Fatalf("register %s %d", u, code)
		}
	}
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for x := range 3 {
		for y := range 2 {
			img.Set(x, y, color.NRGBA{R: uint8(80 * x), G: 120, B: uint8(200 * y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"me.png":     buf.Bytes(),
		"notes.png":  []byte("these are notes, not a picture\n"),
		"poster.png": append(append([]byte(nil), buf.Bytes()...), make([]byte, 3<<19)...),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	carol := newBrowser(t, exe)
	uiLogin(carol, base, "carol", "carol-password")
	carol.open(base, "/settings")
	upload := func(name string) {
		t.Helper()
		eval[bool](carol, "(document.getElementById('picture-msg').textContent = '', document.getElementById('picture-result').textContent = '', true)")
		carol.do("upload "+name,
			chromedp.SetUploadFiles(chromedp.ID("picture"), []string{filepath.Join(dir, name)}),
			chromedp.Click(chromedp.CSS("#picture-form button[type=submit]")))
		carol.wait("document.getElementById('picture-msg').textContent !== '' || document.getElementById('picture-result').textContent !== ''")
	}
	before := carol.reqs.Load()
	upload("poster.png")
	if m := eval[string](carol, "document.getElementById('picture-msg').textContent"); !strings.Contains(m, "1 MiB") {
		t.Errorf("a picture above 1 MiB: %q", m)
	}
	if n := carol.reqs.Load() - before; n != 0 {
		t.Errorf("%d requests for a picture the page can tell is too large", n)
	}
	upload("notes.png")
	if m := eval[string](carol, "document.getElementById('picture-msg').textContent"); !strings.Contains(m, "PNG, JPEG") {
		t.Errorf("a file that is no picture: %q", m)
	}
	upload("me.png")
	if m := eval[string](carol, "document.getElementById('picture-result').textContent"); m != "Picture saved." {
		t.Errorf("after uploading a picture: %q, %q", m, eval[string](carol, "document.getElementById('picture-msg').textContent"))
	}
	carol.wait("document.getElementById('picture-preview').complete && document.getElementById('picture-preview').naturalWidth === 3")
	carol.noHorizontalScroll("settings")

	res, err := http.Get(base + "/api/users/carol/profilepic")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "image/png" || !bytes.Equal(got, files["me.png"]) {
		t.Errorf("stored picture: %s, %d bytes", ct, len(got))
	}

	alice := newBrowser(t, exe)
	uiLogin(alice, base, "alice", "alice-password")
	alice.open(base, "/send")
	alice.do("destination", chromedp.SendKeys(chromedp.ID("destination"), "carol"))
	alice.wait("!document.getElementById('recipient').hidden")
	alice.wait("document.getElementById('recipient-img').complete && document.getElementById('recipient-img').naturalWidth === 3")
}
