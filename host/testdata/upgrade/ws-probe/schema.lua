return {
  name = "ws-probe",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
