from vrp.cli import main

main()
