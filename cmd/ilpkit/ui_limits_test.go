package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUILimits: on the admin's users page a user on the kit's default
// limits shows empty limit fields with the default next to them (not
// "0"); saving without a change keeps the user on the defaults, so a
// later change of the defaults applies to them; a limit of their own is
// shown and kept, the other stays the default; emptying it goes back to
// the default.
func TestUILimits(t *testing.T) {
	exe := chromiumPath(t)
	base, admin := uiKit(t)
	if code := newAPIClient(t, base).call("POST", "/api/users/carol", map[string]string{"password": "carol-password"}, nil); code != 201 {
		t.Fatalf("register carol %d", code)
	}
	type user struct {
		Username                           string
		MinBalance, MaxBalance             *string
		CustomLimits                       bool
		CustomMinBalance, CustomMaxBalance bool
	}
	carol := func() user {
		t.Helper()
		var users []user
		if code := admin.call("GET", "/api/users", nil, &users); code != 200 {
			t.Fatalf("users %d", code)
		}
		for _, u := range users {
			if u.Username == "carol" {
				return u
			}
		}
		t.Fatal("no carol")
		return user{}
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}

	b := newBrowser(t, exe)
	// save submits carol's form and waits until the list shows again.
	save := func(what string) {
		t.Helper()
		eval[bool](b, "(document.getElementById('user-list').dataset.stale = '1', true)")
		b.do(what, chromedp.Click(chromedp.CSS("li[data-user=carol] button[type=submit]")))
		b.wait("document.getElementById('user-list') && !document.getElementById('user-list').dataset.stale")
	}
	uiLogin(b, base, "admin", "admin-password")
	b.open(base, "/admin")
	card := `document.querySelector('li[data-user=carol]')`
	minIn, maxIn := card+".querySelector('input[id$=-min]')", card+".querySelector('input[id$=-max]')"
	if v := eval[[]string](b, "["+minIn+".value, "+maxIn+".value]"); v[0] != "" || v[1] != "" {
		t.Errorf("carol on the defaults: fields %q, want empty", v)
	}
	if p := eval[string](b, minIn+".placeholder + ' / ' + "+maxIn+".placeholder"); p != "Default: 0 USD / Default: unlimited" {
		t.Errorf("placeholders %q", p)
	}
	if s := eval[string](b, card+".querySelector('.user-limits').textContent"); !strings.Contains(s, "(default)") {
		t.Errorf("carol's limits shown as %q", s)
	}
	b.noHorizontalScroll("admin users")

	// Saving without a change keeps the defaults.
	save("save unchanged")
	if u := carol(); u.CustomLimits || u.CustomMinBalance || u.CustomMaxBalance {
		t.Fatalf("saving unchanged limits made them custom: %+v", u)
	}

	// The defaults change, and apply to carol.
	b.do("default limits",
		chromedp.SetValue(chromedp.ID("default-min"), "-5"),
		chromedp.Click(chromedp.CSS("#default-limits-form button[type=submit]")))
	b.wait(card + " && " + minIn + ".placeholder === 'Default: −5 USD'")
	if u := carol(); u.CustomLimits || str(u.MinBalance) != "-5000000000" {
		t.Errorf("carol after the default minimum changed: min %s, %+v", str(u.MinBalance), u)
	}
	if v := eval[string](b, "document.getElementById('default-min').value"); v != "-5" {
		t.Errorf("default minimum field %q", v)
	}

	// A maximum of her own; the minimum stays the default.
	b.do("carol's maximum", chromedp.SetValue(chromedp.CSS("li[data-user=carol] input[id$=-max]"), "50"))
	save("save carol's maximum")
	if s := eval[string](b, card+".querySelector('.user-limits').textContent"); !strings.Contains(s, "−5 USD (default) to 50 USD") {
		t.Errorf("carol's limits shown as %q", s)
	}
	if u := carol(); !u.CustomMaxBalance || u.CustomMinBalance || str(u.MaxBalance) != "50000000000" {
		t.Errorf("carol after her maximum: %+v max %s", u, str(u.MaxBalance))
	}
	if v := eval[[]string](b, "["+minIn+".value, "+maxIn+".value]"); v[0] != "" || v[1] != "50" {
		t.Errorf("fields %q after saving a maximum", v)
	}
	// Saving again without a change keeps it as it is.
	save("save again")
	if u := carol(); !u.CustomMaxBalance || u.CustomMinBalance {
		t.Errorf("carol after saving again: %+v", u)
	}
	// Emptying the field goes back to the default.
	eval[bool](b, "("+maxIn+".value = '', true)")
	save("clear maximum")
	if s := eval[string](b, card+".querySelector('.user-limits').textContent"); !strings.HasSuffix(s, "to unlimited (default)") {
		t.Errorf("carol's limits shown as %q", s)
	}
	if u := carol(); u.CustomLimits || u.MaxBalance != nil {
		t.Errorf("carol after clearing her maximum: %+v", u)
	}
}
