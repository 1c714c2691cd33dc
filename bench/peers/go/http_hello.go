//go:build ignore

// http_hello.go - the Go twin of examples/http_hello.c: an HTTP/1.1 server
// answering "hello", with keep-alive, written the way every Go tutorial
// writes one (net/http, one handler). net/http serves each connection on
// a goroutine of its own, with the runtime's netpoller underneath: the
// model goc copies.
//
//	go build -o build/bench/http-hello-go bench/peers/go/http_hello.go
//	build/bench/http-hello-go [--port 8080] [--host 127.0.0.1] [--workers N]
//	wrk -t2 -c64 -d5s http://127.0.0.1:8080/
//
// --workers sets GOMAXPROCS (0: one per CPU, Go's default). The build tag
// keeps this file out of goc-peer-go, the package beside it; naming the
// file on the go command line builds it alone.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
)

func main() {
	port := flag.Int("port", 8080, "port to listen on (0 picks a free one)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	workers := flag.Int("workers", 0, "GOMAXPROCS (0: one per CPU)")
	flag.Parse()
	if *workers > 0 {
		runtime.GOMAXPROCS(*workers)
	}

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	})
	l, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "http_hello:", err)
		os.Exit(1)
	}
	fmt.Printf("http_hello (Go net/http): listening on http://%s/ (GOMAXPROCS %d)\n",
		l.Addr(), runtime.GOMAXPROCS(0))
	fmt.Fprintln(os.Stderr, "http_hello:", http.Serve(l, nil))
	os.Exit(1)
}
