package postgres

import (
	"github.com/jackc/pgx/v5"
)

// RowValuesBothWays decodes the current row of rows with rawValues and
// with pgx's Values(), each finished by decodeValue (tests).
func RowValuesBothWays(rows pgx.Rows) (fast, slow []any, err error) {
	fast, err = rawValues(rows, rows.FieldDescriptions(), rows.Conn().TypeMap(), nil)
	if err != nil {
		return nil, nil, err
	}
	slow, err = rows.Values()
	if err != nil {
		return nil, nil, err
	}
	for i := range fast {
		fast[i], slow[i] = decodeValue(fast[i]), decodeValue(slow[i])
	}
	return fast, slow, nil
}
