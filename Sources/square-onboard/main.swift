import Foundation
import Onboarding

exit(await CommandLineInterface.run(arguments: CommandLine.arguments))
