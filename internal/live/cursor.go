package live

import (
	"errors"
	"strconv"
	"strings"
)

// Cursor is a position in the hub's stream: the boot epoch (the server's
// start in unix ms, so a cursor from an earlier run is recognised) and the
// sequence number of the last event seen (0: before the first event).
type Cursor struct {
	Epoch int64
	Seq   uint64
}

// AppendText appends the wire form "<epoch>-<seq>".
func (c Cursor) AppendText(dst []byte) []byte {
	dst = strconv.AppendInt(dst, c.Epoch, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, c.Seq, 10)
}

// String is the wire form.
func (c Cursor) String() string { return string(c.AppendText(nil)) }

// ParseCursor reads the wire form "<epoch>-<seq>".
func ParseCursor(s string) (Cursor, error) {
	e, q, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Cursor{}, errors.New("cursor must be <epoch>-<seq>")
	}
	epoch, err := strconv.ParseInt(e, 10, 64)
	if err != nil || epoch < 0 {
		return Cursor{}, errors.New("cursor epoch is not a number")
	}
	seq, err := strconv.ParseUint(q, 10, 64)
	if err != nil {
		return Cursor{}, errors.New("cursor sequence is not a number")
	}
	return Cursor{epoch, seq}, nil
}
