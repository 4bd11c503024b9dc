module github.com/ilpkit/ilpkit

go 1.26
