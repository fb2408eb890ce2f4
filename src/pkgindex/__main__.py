from pkgindex.cli import main

raise SystemExit(main())
