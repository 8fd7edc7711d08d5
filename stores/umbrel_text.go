package stores

import (
	"regexp"
	"strings"
)

// umbrelURL matches how Umbrel apps write their own address: Umbrel serves
// each app on its device's name and the app's port, over http
// (ORIGIN=http://${APP_DOMAIN}:8811, APP_URL=http://${DEVICE_DOMAIN_NAME}:8770,
// http://umbrel.local:8811). Groups: scheme, host, port.
var umbrelURL = regexp.MustCompile(`(https?://)?(\$\{APP_DOMAIN\}|\$APP_DOMAIN\b|\$\{DEVICE_DOMAIN_NAME\}|\$DEVICE_DOMAIN_NAME\b|\$\{DEVICE_HOSTNAME\}\.local|\$DEVICE_HOSTNAME\.local|umbrel\.local):(\d+|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)`)

// umbrelOwnURLs rewrites the app's own Umbrel address in s (host and the
// manifest's port, over http) to its address here: ${APP_URL} for a URL,
// ${APP_DOMAIN} for a bare host:port. Addresses on other ports (another
// app's, a second service's) are left as written. resolve gives the value
// of a port written as an exports.sh variable.
func umbrelOwnURLs(s string, appPort int, resolve func(string) string) string {
	if appPort == 0 || !strings.Contains(s, ":") {
		return s
	}
	return umbrelURL.ReplaceAllStringFunc(s, func(match string) string {
		sub := umbrelURL.FindStringSubmatch(match)
		if portNumber(resolve(sub[3])) != appPort {
			return match
		}
		if sub[1] != "" {
			return "${APP_URL}"
		}
		return "${APP_DOMAIN}"
	})
}

// umbrelSignInNote tells how to sign in to an app whose manifest names a
// default user: with its default password, with the generated
// APP_PASSWORD (shown by `stackhub apps info`), or, when Umbrel derives a
// password StackHub does not have, through the app's own setup.
func umbrelSignInNote(m umbrelManifest, id string, fields []Field) string {
	user := string(m.DefaultUsername)
	if user == "" {
		return ""
	}
	for _, f := range fields {
		if f.Key == "APP_PASSWORD" {
			return "Sign in as " + user + " with the password generated at install (the Password setting): `stackhub apps info " + id + "` shows it, or set your own with `--set APP_PASSWORD=…` at install."
		}
	}
	if pw := string(m.DefaultPassword); pw != "" && !m.DeterministicPassword {
		return "Sign in as " + user + " with the password " + pw + ", and change it."
	}
	return "The app's user is " + user + ". Umbrel gives it a password of its own, which StackHub does not have: set the password through the app's own first-run setup or its documentation."
}
