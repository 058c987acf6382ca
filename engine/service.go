package engine

import "github.com/quotad/quotad"

// The API surface lives in the root package (so that the HTTP client needs
// no engine); these aliases keep the engine's own names for it.
type (
	// Service is quotad.Service.
	Service = quotad.Service
	// SpendResult is quotad.SpendResult.
	SpendResult = quotad.SpendResult
	// Reservation is quotad.ReserveResult.
	Reservation = quotad.ReserveResult
	// ErrorReport is quotad.ErrorReport.
	ErrorReport = quotad.ErrorReport
	// ReportResult is quotad.ReportResult.
	ReportResult = quotad.ReportResult
	// ResetResult is quotad.ResetResult.
	ResetResult = quotad.ResetResult
	// ResumeResult is quotad.ResumeResult.
	ResumeResult = quotad.ResumeResult
	// Pick is quotad.Pick.
	Pick = quotad.Pick
)

var _ Service = (*Engine)(nil)
