// Package multitest holds the multi-instance test of quotad on PostgreSQL:
// several `quotad serve` processes and many `quotad spend` processes on one
// database, checked for exact totals, exactly-once resets and resumes, one
// run of each job at a time, and recovery after a daemon is killed.
//
// It needs a PostgreSQL server and takes about half a minute:
//
//	QUOTAD_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./internal/multitest/
//
// It skips without QUOTAD_TEST_POSTGRES_URL and under -short.
package multitest
