package repotest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// AuthError is an S3 error answer: its code and message.
type AuthError struct{ Code, Message string }

// VerifySigV4 checks an S3 request's AWS Signature Version 4 (the
// Authorization header restic's S3 client sends) against one access key,
// so that the tests prove the secret key reaches restic, not just the key
// id. It implements the signing steps AWS documents.
func VerifySigV4(r *http.Request, keyID, secret string) *AuthError {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return &AuthError{"AccessDenied", "Access Denied: the request is not signed"}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			fields[k] = v
		}
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" {
		return &AuthError{"AuthorizationHeaderMalformed", "malformed Credential"}
	}
	if cred[0] != keyID {
		return &AuthError{"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	date, region, service := cred[1], cred[2], cred[3]
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canonHeaders strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		canonHeaders.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	// Encode sorts by key, as the canonical query wants.
	canonQuery := strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20")
	canonical := strings.Join([]string{
		r.Method,
		r.URL.EscapedPath(),
		canonQuery,
		canonHeaders.String(),
		fields["SignedHeaders"],
		r.Header.Get("X-Amz-Content-Sha256"),
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	scope := strings.Join(cred[1:], "/")
	toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, s := range []string{date, region, service, "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &AuthError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	return nil
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
