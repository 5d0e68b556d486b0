-- The seed's map form: children listed before their parent on purpose.
return {
  zz_children = {
    name = "zz_children",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", uuid = true, auto = true } },
      { parent = { type = "foreign", reference = "aa_parents", on_delete = "cascade" } },
    },
  },
  aa_parents = {
    name = "aa_parents",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", uuid = true, auto = true } },
      { grand = { type = "foreign", reference = "mm_grands" } },
    },
  },
  mm_grands = {
    name = "mm_grands",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", uuid = true, auto = true } },
    },
  },
}
