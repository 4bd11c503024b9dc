package ilp

import "strings"

// ILP error codes of RFC 0003 as of mid-2017. The letter is the family: F
// (final: do not retry as is), T (temporary: retry later), R (relative: retry
// with other amounts or timeouts).
const (
	CodeBadRequest                    = "F00"
	CodeInvalidPacket                 = "F01"
	CodeUnreachable                   = "F02"
	CodeInvalidAmount                 = "F03"
	CodeInsufficientDestinationAmount = "F04"
	CodeWrongCondition                = "F05"
	CodeUnexpectedPayment             = "F06"
	CodeCannotReceive                 = "F07"
	CodeFinalApplicationError         = "F99"

	CodeInternalError             = "T00"
	CodeLedgerUnreachable         = "T01"
	CodeLedgerBusy                = "T02"
	CodeConnectorBusy             = "T03"
	CodeInsufficientLiquidity     = "T04"
	CodeRateLimited               = "T05"
	CodeTemporaryApplicationError = "T99"

	CodeTransferTimedOut         = "R00"
	CodeInsufficientSourceAmount = "R01"
	CodeInsufficientTimeout      = "R02"
	CodeRelativeApplicationError = "R99"
)

// CodeName returns the RFC 0003 name of an RFC error code, such as
// "Unreachable" for "F02", or "" for a code outside the table (legacy codes
// included: see NormalizeCode).
func CodeName(code string) string {
	switch code {
	case CodeBadRequest:
		return "Bad Request"
	case CodeInvalidPacket:
		return "Invalid Packet"
	case CodeUnreachable:
		return "Unreachable"
	case CodeInvalidAmount:
		return "Invalid Amount"
	case CodeInsufficientDestinationAmount:
		return "Insufficient Destination Amount"
	case CodeWrongCondition:
		return "Wrong Condition"
	case CodeUnexpectedPayment:
		return "Unexpected Payment"
	case CodeCannotReceive:
		return "Cannot Receive"
	case CodeInternalError:
		return "Internal Error"
	case CodeLedgerUnreachable:
		return "Ledger Unreachable"
	case CodeLedgerBusy:
		return "Ledger Busy"
	case CodeConnectorBusy:
		return "Connector Busy"
	case CodeInsufficientLiquidity:
		return "Insufficient Liquidity"
	case CodeRateLimited:
		return "Rate Limited"
	case CodeTransferTimedOut:
		return "Transfer Timed Out"
	case CodeInsufficientSourceAmount:
		return "Insufficient Source Amount"
	case CodeInsufficientTimeout:
		return "Insufficient Timeout"
	case CodeFinalApplicationError, CodeTemporaryApplicationError, CodeRelativeApplicationError:
		return "Application Error"
	}
	return ""
}

// NormalizeCode maps an error code as a 2017 peer sent it to the RFC 0003
// code, and reports whether the code was recognised (an RFC code or a legacy
// one); an unrecognised code comes back unchanged.
//
// Deployed code of July 2017 still used an older table: ilp@11.2 sent S00,
// S01, S03-S06 and R01 "Transfer Timed Out"; ilp-connector 21.1.5 sent S00,
// S01, S02, T01, R02 "Insufficient Source Amount" and R03 "Insufficient
// Timeout". The S codes are the F codes of the same number and name (S07 and
// S99 are mapped the same way). R01 and R02 mean different things in the two
// tables, so the name decides: R01 named "Transfer Timed Out" is R00, R02
// named "Insufficient Source Amount" is R01; with any other name they keep
// their RFC meaning. Names are compared ignoring case and surrounding spaces.
func NormalizeCode(code, name string) (string, bool) {
	if len(code) == errorCodeLen && code[0] == 'S' {
		if f := "F" + code[1:]; CodeName(f) != "" {
			return f, true
		}
		return code, false
	}
	name = strings.TrimSpace(name)
	switch {
	case code == "R01" && strings.EqualFold(name, "Transfer Timed Out"):
		return CodeTransferTimedOut, true
	case code == "R02" && strings.EqualFold(name, "Insufficient Source Amount"):
		return CodeInsufficientSourceAmount, true
	case code == "R03":
		return CodeInsufficientTimeout, true
	}
	return code, CodeName(code) != ""
}
