module github.com/nexus-interop/nexus-go

go 1.26.8

require (
	github.com/rogpeppe/go-internal v1.14.1
	github.com/tidwall/gjson v1.20.2
	golang.org/x/sys v0.26.0
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.3.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
