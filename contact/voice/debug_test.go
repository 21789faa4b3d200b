package voice_test

import (
	"os"

	"github.com/emiago/sipgo/sip"
)

func init() {
	if os.Getenv("SIP_DEBUG") != "" {
		sip.SIPDebug = true
	}
}
