from tests.faults.command import main

raise SystemExit(main())
