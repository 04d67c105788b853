"""Entry point: ``python -m blurd.diffusion.worker`` serves requests on stdin/stdout until EOF or shutdown."""

from .server import main

if __name__ == "__main__":
    main()
