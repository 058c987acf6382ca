// Package quotad holds the domain types of quotad: APIs and their quota
// windows, channels and their pause reasons, events, and the Store interface
// that every backend implements; and the API surface: Service, its requests
// and results, and the status views, which the engine implements over a
// store and package client over HTTP.
//
// quotad keeps API-driven pipelines ("channels") running through provider
// quota limits: it meters what each channel spends on each API, notices when
// a provider says a quota is gone, pauses exactly the channels that need that
// API, and resumes them the moment the quota resets. The engine package holds
// the operations; the store/sqlite and store/postgres packages hold the state.
package quotad
