package adminapi

import (
	"errors"
	"net/http"

	"github.com/stackhub/stackhub/dns"
)

// DNSRecords, set by the Caddy glue, returns what the running zone server
// answers right now; ok is false when StackHub serves no zone (no `dns`
// block in the stackhub options).
var DNSRecords func() (records []dns.Record, ok bool)

// ZoneRecords is the answer to GET /stackhub/dns/records.
type ZoneRecords struct {
	Records []dns.Record `json:"records"`
}

func dnsRecords(w http.ResponseWriter) {
	var recs []dns.Record
	ok := false
	if DNSRecords != nil {
		recs, ok = DNSRecords()
	}
	if !ok {
		writeError(w, http.StatusNotFound, errors.New("StackHub serves no DNS zone: add a `dns { … }` block to the stackhub options of the Caddyfile"))
		return
	}
	if recs == nil {
		recs = []dns.Record{}
	}
	writeJSON(w, ZoneRecords{Records: recs})
}

// DNSRecords lists what the zone answers right now.
func (c Client) DNSRecords() ([]dns.Record, error) {
	var out ZoneRecords
	err := c.call(http.MethodGet, "/stackhub/dns/records", nil, &out)
	return out.Records, err
}
