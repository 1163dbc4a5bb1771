module github.com/httpskit/httpskit

go 1.26.0

require (
	golang.org/x/crypto v0.59.0
	golang.org/x/image v0.47.0
	golang.org/x/net v0.62.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require golang.org/x/text v0.44.0 // indirect
