// Package appctl runs apps on the Docker Engine: install, start, stop,
// restart, remove, logs, status, and reconcile after a restart.
//
// Apps are ordinary Compose projects (the Compose SDK behind the Engine
// interface), so `docker compose ls` lists them. Each app has a folder
// under the platform's data folder:
//
//	apps/<id>/source/        the app's compose file and files, as installed
//	apps/<id>/data/          APP_DATA_DIR: the app's bind-mounted data
//	apps/<id>/compose.yaml   a copy of the project StackHub runs, resolved, for
//	                         `docker compose -f apps/<id>/compose.yaml ps` by hand
//
// What StackHub runs is the project recorded in kv at install (project.go),
// never these files; bind sources are resolved on the host before every start
// (paths.go); StackHub's own file operations there go through os.Root
// (approot.go); each app has its own network to the proxy (network.go).
//
// Crash safety (DESIGN.md invariant 5): every operation writes the app's
// desired state to kv before it acts, and Reconcile, run at start, moves each
// app from whatever Docker shows to that state: an interrupted install is
// finished (or, if that fails, rolled back and reported), an interrupted
// removal is finished, missing containers of installed apps are recreated.
// User data is only deleted by an explicit remove without --keep-data.
package appctl
