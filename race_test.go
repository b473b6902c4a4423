//go:build race

package scimkit_test

const raceEnabled = true
