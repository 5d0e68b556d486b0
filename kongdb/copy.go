package kongdb

// deepCopy copies the value model: maps and slices are copied, scalars,
// Null and *Func shared.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// DeepCopyRow copies a row and everything in it.
func DeepCopyRow(r Row) Row {
	if r == nil {
		return nil
	}
	return deepCopy(r).(map[string]any)
}

// removeNulls deep-copies v leaving out every Null, as post_crud_event's
// remove_nulls(deep_copy(entity)) does (array holes are dropped too).
func removeNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			if isNullValue(x) {
				continue
			}
			m[k] = removeNulls(x)
		}
		return m
	case []any:
		s := make([]any, 0, len(t))
		for _, x := range t {
			if isNullValue(x) {
				continue
			}
			s = append(s, removeNulls(x))
		}
		return s
	}
	return v
}

// DeepCopy copies a value of the value model (maps and arrays recursively).
func DeepCopy(v any) any { return deepCopy(v) }
