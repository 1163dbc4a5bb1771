package https_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/httpskit/httpskit/https"
)

// On a small device: with MemoryFrugal, a download that the program reads more slowly than
// it arrives (writing it to an SD card, say) holds at most https.FrugalWindow (256 KiB) of
// it in memory over HTTP/2, instead of up to 4 MiB. Running the program with a memory limit
// (GOMEMLIMIT=32MiB, say) has the same effect without the option.
func ExampleMemory() {
	srv, ca, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1<<20))
	}), nil)
	defer srv.Close()

	r, err := https.Get(context.Background(), https.Options{
		Host: "localhost", Port: port, Path: "/firmware.bin", CA: ca, Memory: https.MemoryFrugal,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := r.Response()
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := io.Copy(io.Discard, res)
	fmt.Println(res.StatusCode, "HTTP/"+res.HTTPVersion, n, err)
	// Output:
	// 200 HTTP/2.0 1048576 <nil>
}
