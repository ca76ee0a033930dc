# A watcher that stops when its stdin ends, as esbuild --watch and
# tailwindcss --watch do.
import os, sys

print(f"watching {os.getpid()}", flush=True)
for line in sys.stdin:
    print(f"input {line.rstrip()}", flush=True)
print("stdin closed", flush=True)
