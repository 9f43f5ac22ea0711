// The ccpnet command line: a thin front end over the sim library.
#include "sim/cli/cli.hpp"

int main(int argc, char** argv) { return ccpnet::cli::main(argc, argv); }
