package lsyslog

// SetDaemon points lsyslog at the daemon listening on network/addr ("", "":
// the local one) for the tests of package lsyslog_test.
func SetDaemon(network, addr string) { lsyslogNetwork, lsyslogAddr = network, addr }
