package appctl

import (
	"errors"
	"net/http"
)

// HTTPStatus maps an operation's error to the HTTP status that fits it, for
// the admin API and the portal's API alike: 404 not installed, 409 taken,
// already installed or managed by the config, 403 hazards not approved,
// 400 invalid app, 503 Docker unreachable, 424 image missing, else 500.
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
	}
	return http.StatusInternalServerError
}
