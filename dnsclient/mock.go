package dnsclient

// Mock is spec.helpers' dns_mock as a node's client sees it: records that
// answer queries before any nameserver is asked, as the mock resolver of
// Kong's spec fixtures (spec/fixtures/mocks/lua-resty-dns) answers
// resty.dns.resolver's queries from the records start_kong wrote.
type Mock struct {
	// Records are the answers by query type and name (the name as
	// queried: lower case, no final dot). An answer is lua-resty-dns's
	// list, its records' own types and names kept: like a server's
	// answer, a record of another name or type is cached under its own.
	Records map[uint16]map[string][]Record
	// MocksOnly is dns_mock.new{ mocks_only = true }: a name and type
	// not mocked get an empty answer instead of a query.
	MocksOnly bool
}

// answer is the mocked answer for qname and qtype, if there is one.
func (m *Mock) answer(qname string, qtype uint16) ([]Record, bool) {
	recs, ok := m.Records[qtype][qname]
	if !ok {
		return nil, false
	}
	// the cache rewrites TTLs (dns_valid_ttl): a copy per query
	return append([]Record(nil), recs...), true
}
