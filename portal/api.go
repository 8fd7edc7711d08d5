package portal

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

// The JSON API for admins, under /api (session cookie plus the session's
// CSRF token in the X-CSRF-Token header on every change):
//
//	GET    /api/users                  users
//	POST   /api/users                  {name, email, role, groups, password}
//	PATCH  /api/users/{name}           {email, role, groups, disabled} (fields present change)
//	DELETE /api/users/{name}           remove (signs the user out everywhere)
//	POST   /api/users/{name}/reset-totp
//	POST   /api/users/{name}/revoke    sign the user out everywhere
//	PUT    /api/apps/{app}/policy      registry.Policy
//	GET    /api/me                     the caller's identity and CSRF token
func (p *Portal) apiRoutes(api fiber.Router) {
	api.Get("/me", func(c *fiber.Ctx) error {
		s, id, _ := sessionOf(c)
		return c.JSON(fiber.Map{"user": id.User, "role": id.Role, "groups": id.Groups, "csrf": s.CSRF})
	})
	api.Get("/users", func(c *fiber.Ctx) error {
		users, err := p.cfg.Auth.Users()
		if err != nil {
			return err
		}
		return c.JSON(users)
	})
	api.Post("/users", func(c *fiber.Ctx) error {
		var in struct {
			Name     string   `json:"name"`
			Email    string   `json:"email"`
			Role     string   `json:"role"`
			Groups   []string `json:"groups"`
			Password string   `json:"password"`
		}
		if err := c.BodyParser(&in); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "send a JSON user")
		}
		u, err := p.cfg.Auth.CreateUser(auth.NewUser{Name: in.Name, Email: in.Email, Role: auth.Role(in.Role), Groups: in.Groups, Password: in.Password})
		if err != nil {
			return apiError(err)
		}
		return c.Status(fiber.StatusCreated).JSON(u)
	})
	api.Patch("/users/:name", func(c *fiber.Ctx) error {
		var in struct {
			Email    *string   `json:"email"`
			Role     *string   `json:"role"`
			Groups   *[]string `json:"groups"`
			Disabled *bool     `json:"disabled"`
		}
		if err := c.BodyParser(&in); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "send a JSON change")
		}
		ch := auth.UserUpdate{Email: in.Email, Groups: in.Groups, Disabled: in.Disabled}
		if in.Role != nil {
			r := auth.Role(*in.Role)
			ch.Role = &r
		}
		u, err := p.cfg.Auth.UpdateUser(c.Params("name"), ch)
		if err != nil {
			return apiError(err)
		}
		return c.JSON(u)
	})
	api.Delete("/users/:name", func(c *fiber.Ctx) error {
		if err := p.cfg.Auth.DeleteUser(c.Params("name")); err != nil {
			return apiError(err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	api.Post("/users/:name/reset-totp", func(c *fiber.Ctx) error {
		if err := p.cfg.Auth.ResetTOTP(c.Params("name")); err != nil {
			return apiError(err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	api.Post("/users/:name/revoke", func(c *fiber.Ctx) error {
		if err := p.cfg.Auth.RevokeUserSessions(c.Params("name")); err != nil {
			return apiError(err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	api.Put("/apps/:app/policy", func(c *fiber.Ctx) error {
		var pol registry.Policy
		if err := c.BodyParser(&pol); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "send a JSON policy")
		}
		if err := SetPolicy(p.cfg.Policies, c.Params("app"), pol); err != nil {
			return apiError(err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// apiError maps a user-facing error to a status with its public message.
func apiError(err error) error {
	var ae *auth.Error
	var ie InputError
	switch {
	case errors.Is(err, auth.ErrUserNotFound):
		return fiber.NewError(http.StatusNotFound, message(err))
	case errors.Is(err, auth.ErrUserExists), errors.Is(err, auth.ErrLastAdmin):
		return fiber.NewError(http.StatusConflict, message(err))
	case errors.As(err, &ie): // its catalog message, in the request's language
		return &statusError{code: http.StatusBadRequest, err: err}
	case errors.As(err, &ae):
		return fiber.NewError(http.StatusBadRequest, message(err))
	}
	return err
}
