package loadgen

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// knownCurves are the key-exchange groups crypto/tls implements.
var knownCurves = []tls.CurveID{
	tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
	tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521,
}

// CurveName is the Go name of a key-exchange group without the "Curve"
// prefix ("X25519MLKEM768", "X25519", "P256"), or "" for none.
func CurveName(id tls.CurveID) string {
	if id == 0 {
		return ""
	}
	return strings.TrimPrefix(id.String(), "Curve")
}

// ParseCurves turns a comma-separated list of Go group names ("X25519",
// "X25519MLKEM768", "P256" or "CurveP256", any case) into CurveIDs for
// tls.Config.CurvePreferences, in the order given.
func ParseCurves(list string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, ok := lookupCurve(name)
		if !ok {
			var names []string
			for _, c := range knownCurves {
				names = append(names, CurveName(c))
			}
			return nil, fmt.Errorf("loadgen: unknown key-exchange group %q (known: %s)", name, strings.Join(names, ", "))
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("loadgen: empty key-exchange group list %q", list)
	}
	return ids, nil
}

func lookupCurve(name string) (tls.CurveID, bool) {
	n := strings.TrimPrefix(strings.ToLower(strings.ReplaceAll(name, "-", "")), "curve")
	for _, id := range knownCurves {
		if strings.ToLower(CurveName(id)) == n {
			return id, true
		}
	}
	return 0, false
}
