package postgres_test

import "time"

func time_now() int64 { return time.Now().Unix() }
