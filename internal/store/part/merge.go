package part

// Merge writes the union of the rows of parts as a new part at dir, with the
// same grouping, order and atomicity as Write, reading block by block so
// memory stays bounded by a few blocks per input.
func Merge(dir string, parts []*Part, meta Meta, opts WriteOptions) (Meta, error) {
	return meta, errNotImplemented
}
