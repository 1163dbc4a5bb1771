package https_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/httpskit/httpskit/https"
)

// An Agent's RoundTripper lets any code that takes an *http.Client use this
// package's CA loading, bounds and typed errors.
func ExampleAgent_RoundTripper() {
	s, caPEM, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over HTTP/%d", r.ProtoMajor)
	}), nil)
	defer s.Close()

	agent := &https.Agent{MaxConnsPerHost: 4}
	defer agent.CloseIdleConnections()
	rt, err := agent.RoundTripper(https.Options{CA: caPEM, MaxBodyBytes: 1 << 20})
	if err != nil {
		fmt.Println(err) // CA, Cert or Key could not be loaded
		return
	}
	client := &http.Client{Transport: rt}
	resp, err := client.Get("https://localhost:" + strconv.Itoa(port) + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))

	// Failures are *https.Error values of a kind, through http.Client's
	// *url.Error: here the system roots do not trust the test CA.
	untrusting, _ := agent.RoundTripper(https.Options{})
	_, err = (&http.Client{Transport: untrusting}).Get("https://localhost:" + strconv.Itoa(port) + "/")
	fmt.Println(errors.Is(err, https.ErrUnknownAuthority))
	// Output:
	// 200 OK hello over HTTP/2
	// true
}

// RequestURL takes the URL as Node's https.request(url, options) does; the
// options give the rest.
func ExampleRequestURL() {
	s, caPEM, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		fmt.Fprintf(w, "%s %s as %s", r.Method, r.URL, user)
	}), nil)
	defer s.Close()

	url := "https://ada:secret@localhost:" + strconv.Itoa(port) + "/search?q=go"
	r, err := https.RequestURL(context.Background(), url, https.Options{Method: "DELETE", CA: caPEM}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r.End()
	res, err := r.Response()
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res)
	fmt.Println(res.StatusCode, string(body))
	// Output:
	// 200 DELETE /search?q=go as ada
}
