// Words for check results.

/** A pytest node id as a person names the test: `tests/test_a.py::TestB::test_c` → `TestB › test_c`. */
export function testName(nodeId: string): string {
  const [, ...names] = nodeId.split("::");
  return names.length > 0 ? names.join(" › ") : nodeId;
}
