package part

import (
	"errors"
)

// CorruptError marks damage in a part's files, so the engine can set the
// part aside instead of serving it or stopping.
type CorruptError struct {
	Path   string // the damaged file
	Reason string // what was wrong, for the operator
}

func (e *CorruptError) Error() string {
	return "corrupt part file " + e.Path + ": " + e.Reason
}

// IsCorrupt reports whether err is or wraps a *CorruptError.
func IsCorrupt(err error) bool {
	var ce *CorruptError
	return errors.As(err, &ce)
}

var errNotImplemented = errors.New("part: not implemented")
