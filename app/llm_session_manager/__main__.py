from llm_session_manager.cli import main

raise SystemExit(main())
