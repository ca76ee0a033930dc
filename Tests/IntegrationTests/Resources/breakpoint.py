# Stops at a breakpoint(); the tests answer pdb's prompt (`p x`, then `c`)
# through `start --input` or `swiftman connect`.
x = 6 * 7
breakpoint()
print("after the breakpoint:", x * 2, flush=True)
