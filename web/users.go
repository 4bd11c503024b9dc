package web

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
)

// userJSON is a user as the API shows it. Email only to the user and the
// admin; minBalance and maxBalance are the limits in force (null:
// unlimited), customLimits whether they are the user's own rather than the
// kit's defaults (either of them; customMinBalance and customMaxBalance
// tell each).
type userJSON struct {
	ID             int64     `json:"id"`
	Username       string    `json:"username"`
	Identifier     string    `json:"identifier"`
	Name           string    `json:"name"`
	Email          string    `json:"email,omitempty"`
	IsAdmin        bool      `json:"isAdmin"`
	Disabled       bool      `json:"disabled,omitempty"`
	Balance        string    `json:"balance,omitempty"`
	MinBalance     *string   `json:"minBalance"`
	MaxBalance     *string   `json:"maxBalance"`
	CustomLimits   bool      `json:"customLimits"`
	CustomMin      bool      `json:"customMinBalance"`
	CustomMax      bool      `json:"customMaxBalance"`
	ProfilePicture string    `json:"profilePicture"`
	CreatedAt      time.Time `json:"createdAt"`
}

// userView is the JSON of u, with its balance and limits from the ledger.
func (a *api) userView(r *http.Request, u store.User, withBalance bool) (userJSON, error) {
	k := a.s.k
	j := userJSON{
		ID: u.ID, Username: u.Username, Identifier: u.Username + "@" + k.Host(), Name: u.Name, Email: u.Email,
		IsAdmin: u.IsAdmin, Disabled: u.Disabled, CustomLimits: u.MinBalance != nil || u.MaxBalance != nil,
		CustomMin: u.MinBalance != nil, CustomMax: u.MaxBalance != nil,
		ProfilePicture: k.APIBase() + "/users/" + u.Username + "/profilepic", CreatedAt: u.CreatedAt,
	}
	if withBalance {
		info, err := k.Server().AccountInfo(r.Context(), u.Username)
		if err != nil {
			return userJSON{}, fmt.Errorf("account of %s: %w", u.Username, err)
		}
		j.Balance = info.Balance.String()
		j.MinBalance, j.MaxBalance = bound(info.Limits.Minimum), bound(info.Limits.Maximum)
	}
	return j, nil
}

// target is the user a /users/{username} request is about: the caller, or
// anyone for the admin. Someone else's name is forbidden whether or not it
// exists.
func (a *api) target(r *http.Request, c *caller) (store.User, error) {
	name := r.PathValue("username")
	if name == c.user.Username {
		return c.user, nil
	}
	if !c.user.IsAdmin {
		return store.User{}, errForbidden
	}
	u, err := a.s.k.Store().UserByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errNotFound
	}
	return u, err
}

// register is POST /api/users/{username}, limited per client address
// (limitRegistration).
func (a *api) register(w http.ResponseWriter, r *http.Request) (err error) {
	done, err := a.limitRegistration(w, r)
	if err != nil {
		return err
	}
	defer func() { done(err) }()
	var body struct {
		Email      string `json:"email"`
		Password   string `json:"password"`
		Name       string `json:"name"`
		InviteCode string `json:"inviteCode"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	u, err := a.s.k.Register(r.Context(), kit.NewUser{
		Username: r.PathValue("username"), Password: body.Password, Email: body.Email, Name: body.Name, InviteCode: body.InviteCode,
	})
	if err != nil {
		return err
	}
	j, err := a.userView(r, u, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// getUser is GET /api/users/{username}: oneself, or anyone for the admin.
func (a *api) getUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := a.target(r, c)
	if err != nil {
		return err
	}
	j, err := a.userView(r, u, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// updateUser is PUT /api/users/{username} {name?, email?, password?,
// newPassword?}: a new password needs the current one and is only for
// oneself (the admin resets others' with a reset link). Changing the
// password ends the user's other sessions; a cookie caller gets a new one.
func (a *api) updateUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Name        *string `json:"name"`
		Email       *string `json:"email"`
		Password    *string `json:"password"`
		NewPassword *string `json:"newPassword"`
	}
	u, err := a.target(r, c)
	if err != nil {
		return err
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	ctx := r.Context()
	var out sessionJSON
	if body.NewPassword != nil {
		if u.ID != c.user.ID {
			return apiErr(http.StatusForbidden, "ForbiddenError", "set another user's password with a reset link")
		}
		if body.Password == nil {
			return apiErr(http.StatusBadRequest, "InvalidBodyError", "a new password needs the current password")
		}
		err := a.checkPassword(w, r, u.Username, func() error {
			return a.s.k.ChangePassword(ctx, u.ID, *body.Password, *body.NewPassword)
		})
		if err != nil {
			return err
		}
		if c.via == "cookie" {
			ss, err := a.s.k.NewSession(ctx, u.ID)
			if err != nil {
				return err
			}
			a.setCookie(w, ss)
			out.CSRFToken = ss.CSRF
		}
	}
	if body.Name != nil || body.Email != nil {
		if u, err = a.s.k.UpdateProfile(ctx, u.ID, kit.ProfileUpdate{Name: body.Name, Email: body.Email}); err != nil {
			return err
		}
	} else if u, err = a.s.k.Store().UserByID(ctx, u.ID); err != nil {
		return err
	}
	if out.User, err = a.userView(r, u, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listUsers is GET /api/users (admin): every user with balance and limits.
func (a *api) listUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	out := []userJSON{}
	var after int64
	for {
		users, err := a.s.k.Store().Users(r.Context(), after, 500)
		if err != nil {
			return err
		}
		for _, u := range users {
			j, err := a.userView(r, u, true)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		if len(users) < 500 {
			break
		}
		after = users[len(users)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setLimits is PUT /api/users/{username}/limits (admin) {minBalance,
// maxBalance}: decimal strings of base units, null for the kit's default.
func (a *api) setLimits(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		MinBalance Limit `json:"minBalance"`
		MaxBalance Limit `json:"maxBalance"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	var lo, hi *int64
	if body.MinBalance.Set {
		lo = &body.MinBalance.V
	}
	if body.MaxBalance.Set {
		hi = &body.MaxBalance.V
	}
	u, err := a.s.k.SetUserLimits(r.Context(), r.PathValue("username"), lo, hi)
	if err != nil {
		return err
	}
	j, err := a.userView(r, u, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// resetLink is POST /api/users/{username}/reset-link (admin): a one-time
// code, and the link that carries it, for the user to set a new password.
func (a *api) resetLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	name := r.PathValue("username")
	code, exp, err := a.s.k.IssueResetCode(r.Context(), name)
	if err != nil {
		return err
	}
	link := a.s.k.PublicURL() + "/change-password/" + url.PathEscape(name) + "/" + url.PathEscape(code)
	// With SMTP configured, the link also goes to the user's address; the
	// answer says whether it did (the admin passes it on otherwise).
	emailed := false
	if a.s.k.MailConfigured() {
		switch err := a.s.k.MailResetLink(r.Context(), name, link, exp); {
		case err == nil:
			emailed = true
		case errors.Is(err, kit.ErrNoUserEmail):
		default:
			a.s.log.Warn("emailing a reset link", "user", name, "err", err)
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"username": name, "code": code, "link": link, "expiresAt": exp, "emailed": emailed})
	return nil
}

// pictureTypes are the image types a profile picture may have.
var pictureTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// uploadPicture is POST /api/users/{username}/profilepic: the image as the
// body, or as the first file of a multipart form; at most 1 MiB of PNG,
// JPEG, GIF or WebP (told by its bytes, not by what the client says).
func (a *api) uploadPicture(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := a.target(r, c)
	if err != nil {
		return err
	}
	tooBig := apiErr(http.StatusRequestEntityTooLarge, "BodyTooLargeError", "a profile picture has at most 1 MiB")
	var src io.Reader
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		body := http.MaxBytesReader(w, r.Body, maxPicture+maxBody)
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				var mb *http.MaxBytesError
				if errors.As(err, &mb) {
					return tooBig
				}
				return apiErr(http.StatusBadRequest, "InvalidBodyError", "the form has no file")
			}
			if p.FileName() != "" || p.FormName() == "file" {
				src = p
				break
			}
		}
	} else {
		src = http.MaxBytesReader(w, r.Body, maxPicture+1)
	}
	data, err := io.ReadAll(io.LimitReader(src, maxPicture+1))
	var mb *http.MaxBytesError
	if errors.As(err, &mb) || len(data) > maxPicture {
		return tooBig
	}
	if err != nil {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "the picture could not be read")
	}
	ct := http.DetectContentType(data)
	if !pictureTypes[ct] {
		return apiErr(http.StatusUnsupportedMediaType, "InvalidImageError", "a profile picture is a PNG, JPEG, GIF or WebP image")
	}
	if err := a.s.k.Store().SetPicture(r.Context(), u.ID, ct, data); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"profilePicture": a.s.k.APIBase() + "/users/" + u.Username + "/profilepic"})
	return nil
}

// picture is GET /api/users/{username}/profilepic (public): the user's
// picture, or a placeholder with the first letter of the name.
func (a *api) picture(w http.ResponseWriter, r *http.Request) error {
	u, err := a.s.k.Store().UserByName(r.Context(), r.PathValue("username"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "no-cache")
	ct, data, err := a.s.k.Store().Picture(r.Context(), u.ID)
	if err == nil && pictureTypes[ct] {
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h.Set("Content-Type", "image/svg+xml")
	_, _ = w.Write(placeholder(u))
	return nil
}

// placeholder is an SVG circle in a colour of the user name with the
// name's first letter.
func placeholder(u store.User) []byte {
	sum := sha256.Sum256([]byte(u.Username))
	hue := int(sum[0]) * 360 / 256
	label := u.Name
	if label == "" {
		label = u.Username
	}
	letter := []rune(label)[0:1]
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">`+
		`<circle cx="64" cy="64" r="64" fill="hsl(%d,55%%,50%%)"/>`+
		`<text x="64" y="64" dy=".35em" text-anchor="middle" font-family="sans-serif" font-size="64" fill="#fff">%s</text></svg>`,
		hue, html.EscapeString(string(letter)))
	return b.Bytes()
}

// tokenJSON is a bearer token as listed; Token only in the answer that
// creates it.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Token      string     `json:"token,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// listTokens is GET /api/tokens: the caller's unrevoked tokens.
func (a *api) listTokens(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := a.s.k.Store().Tokens(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	out := []tokenJSON{}
	for _, t := range ts {
		if t.RevokedAt == nil {
			out = append(out, tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createToken is POST /api/tokens {name}: a new token, shown this once.
func (a *api) createToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Name == "" || len(body.Name) > 100 {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "a token name has 1 to 100 characters")
	}
	tok, t, err := a.s.k.CreateToken(r.Context(), c.user.ID, body.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenJSON{ID: t.ID, Name: t.Name, Token: tok, CreatedAt: t.CreatedAt})
	return nil
}

// deleteToken is DELETE /api/tokens/{id}: revokes one of the caller's
// tokens.
func (a *api) deleteToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := a.s.k.Store().RevokeToken(r.Context(), c.user.ID, id); errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
