from recs.cli import main

raise SystemExit(main())
