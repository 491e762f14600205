"""What the Stacks & Offers plugins share: Pelican's internals in one place
(`compat`), what each plugin sets and reads (`contract`), and the worker
processes they spread their work over (`forkmap`). Not a plugin itself."""
