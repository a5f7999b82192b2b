// Package doccheck holds the tests that keep README.md honest: every Go
// snippet is a complete program that builds, the programs whose output the
// README shows print exactly that, and the README's daemon and client
// programs talk to each other and to an unchanged Node client.
package doccheck
