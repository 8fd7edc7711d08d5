package appctl

import (
	"errors"
	"net/http"

	"github.com/stackhub/stackhub/backup"
)

// HTTPStatus maps an operation's error to the HTTP status that fits it, for
// the admin API and the portal's API alike: 404 not installed, 409 taken or
// already installed, 403 hazards not approved, 400 invalid app, 503 Docker
// unreachable, 424 image missing, 409 managed by the config; backup errors
// as the admin API answers them (424 no repository or no restic, 404 no
// such snapshot, 403 wrong password, 502 unreachable, 507 no space); else
// 500.
func HTTPStatus(err error) int {
	var du *DockerUnreachableError
	var im *ImageMissingError
	switch {
	case errors.Is(err, ErrNotInstalled):
		return http.StatusNotFound
	case errors.Is(err, ErrAlreadyInstalled), errors.Is(err, ErrTaken), errors.Is(err, ErrManaged):
		return http.StatusConflict
	case errors.Is(err, ErrHazards):
		return http.StatusForbidden
	case errors.Is(err, ErrNeedsApps):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrRequired):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.As(err, &du):
		return http.StatusServiceUnavailable
	case errors.As(err, &im):
		return http.StatusFailedDependency
	case errors.Is(err, backup.ErrNotConfigured), errors.Is(err, backup.ErrNoRestic):
		return http.StatusFailedDependency
	case errors.Is(err, backup.ErrNoSnapshot):
		return http.StatusNotFound
	case errors.Is(err, backup.ErrWrongPassword):
		return http.StatusForbidden
	case errors.Is(err, backup.ErrUnreachable), errors.Is(err, backup.ErrNoRepository):
		return http.StatusBadGateway
	case errors.Is(err, backup.ErrNoSpace):
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}
