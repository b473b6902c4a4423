//go:build !race

package scimkit_test

const raceEnabled = false
