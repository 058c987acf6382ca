package quotad

import "time"

// IdempotencyTTL is how long an idempotency key is remembered: a request
// repeated with the same key within it gets the first answer and changes
// nothing.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the first answer to a request that carried an
// idempotency key, stored in the same transaction as the change the request
// made, so that no crash separates them.
type IdempotencyRecord struct {
	Key string
	// Fingerprint identifies the request (a hash of its method, path and
	// body): the same key with another fingerprint is refused.
	Fingerprint string
	Status      int    // the answer's HTTP status
	Body        []byte // the answer's body
	CreatedAt   time.Time
}
