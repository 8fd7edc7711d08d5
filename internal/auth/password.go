package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits. The minimum follows NIST SP 800-63B for a
// password used with a second factor, rounded up; the maximum only bounds
// the work an anonymous request can cause (argon2 hashes any length, but
// nobody types more than a kilobyte).
const (
	MinPasswordLen   = 10   // characters
	MaxPasswordBytes = 1024 // bytes
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2 is OWASP's smallest-memory argon2id configuration of
// equal strength (19 MiB, 2 passes, 1 lane; OWASP lists it beside
// 46 MiB/1 pass): about 70 ms on one core of a current server, and
// memory-hard enough that a stolen database is slow to attack on GPUs,
// while a box with little RAM does not feel a few sign-ins (MaxHashes
// bounds how many run at once). The parameters travel inside each hash
// (PHC string): older hashes (46 MiB) still verify with their own, and are
// re-hashed with these at their next sign-in.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds accepted when reading a stored hash, so a corrupted or planted
// record cannot make one verification take gigabytes or minutes.
const (
	maxArgonMemory  = 1 << 20 // 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 16
)

func (p Argon2Params) validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		return fmt.Errorf("memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > maxArgonThreads:
		return fmt.Errorf("threads %d out of range", p.Threads)
	case p.SaltLen < 16 || p.SaltLen > 64:
		return fmt.Errorf("salt length %d out of range (16..64)", p.SaltLen)
	case p.KeyLen < 16 || p.KeyLen > 64:
		return fmt.Errorf("key length %d out of range (16..64)", p.KeyLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC-style encoding
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
// with a fresh random salt, so equal passwords never share a hash.
func (s *Service) hashPassword(password string) (string, error) {
	p := s.opts.Argon2
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	key, err := s.idKey(password, salt, p)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// idKey computes one argon2id key in one of MaxHashes slots, waiting at
// most HashWait for a slot: beyond that the answer is a *BusyError, so a
// burst of sign-ins costs at most MaxHashes × the hash memory, and
// requests do not pile up behind each other.
func (s *Service) idKey(password string, salt []byte, p Argon2Params) ([]byte, error) {
	select {
	case s.hashSem <- struct{}{}:
	default:
		t := time.NewTimer(s.opts.HashWait)
		select {
		case s.hashSem <- struct{}{}:
			t.Stop()
		case <-t.C:
			return nil, &BusyError{RetryAfter: s.opts.HashWait}
		}
	}
	if s.hashHook != nil {
		s.hashHook(1)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if s.hashHook != nil {
		s.hashHook(-1)
	}
	<-s.hashSem
	return key, nil
}

type phc struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

var errBadHash = errors.New("malformed password hash")

func parsePHC(enc string) (phc, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errBadHash
	}
	var h phc
	for _, kvp := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kvp, "=")
		if !ok {
			return phc{}, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errBadHash
		}
		switch k {
		case "m":
			h.p.Memory = uint32(n)
		case "t":
			h.p.Time = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, errBadHash
			}
			h.p.Threads = uint8(n)
		default:
			return phc{}, errBadHash
		}
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return phc{}, errBadHash
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return phc{}, errBadHash
	}
	h.p.SaltLen, h.p.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	if err := h.p.validate(); err != nil {
		return phc{}, fmt.Errorf("%w: %v", errBadHash, err)
	}
	return h, nil
}

// verifyPassword reports whether password matches the encoded hash, and
// whether the hash should be replaced because its parameters differ from
// the current ones. The comparison is constant-time.
func (s *Service) verifyPassword(encoded, password string) (ok, rehash bool, err error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	key, err := s.idKey(password, h.salt, h.p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	cur := s.opts.Argon2
	rehash = h.p.Memory != cur.Memory || h.p.Time != cur.Time || h.p.Threads != cur.Threads ||
		h.p.KeyLen != cur.KeyLen || h.p.SaltLen != cur.SaltLen
	return ok, rehash, nil
}

// burnHash spends the same time as a real verification, for unknown users,
// so response time does not reveal whether a user name exists.
// It returns only a *BusyError.
func (s *Service) burnHash(password string) error {
	s.dummyOnce.Do(func() {
		// Fixed parameters and salt: no slot needed to build it.
		p := s.opts.Argon2
		salt := make([]byte, p.SaltLen)
		s.dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
			argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(make([]byte, p.KeyLen)))
	})
	_, _, err := s.verifyPassword(s.dummyHash, password)
	return err
}

// checkPasswordPolicy validates a new password.
func checkPasswordPolicy(user, password string) error {
	if len(password) > MaxPasswordBytes || utf8.RuneCountInString(password) < MinPasswordLen ||
		!utf8.ValidString(password) || strings.EqualFold(password, user) {
		return ErrWeakPassword
	}
	return nil
}
