-- spec.internal.conf (Kong 3.x): the test configuration
return require("spec.helpers").test_conf
