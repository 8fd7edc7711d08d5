package auth

// OnUserRevoked registers fn to be called with the name of a user who was
// just disabled or removed, after the change is stored. Other credentials
// derived from the user's sign-in (the OIDC provider's tokens) end there.
// fn runs under the Service's lock: it must not call back into the Service.
// Register hooks before the Service is used.
func (s *Service) OnUserRevoked(fn func(user string)) {
	s.revokeHooks = append(s.revokeHooks, fn)
}

func (s *Service) userRevoked(name string) {
	for _, fn := range s.revokeHooks {
		fn(name)
	}
}
