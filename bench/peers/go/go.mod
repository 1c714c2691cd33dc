module gocpeer

go 1.19
