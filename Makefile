# twinkey: the two commands a fresh machine needs.
#   make demo   - the main job: the demo on the local emulator
#   make test   - every test (installs what it needs)
.PHONY: test demo

test:
	./scripts/test.sh

demo:
	./scripts/demo.sh
