@echo off
rem locket: runs a command while holding a file lock.  Usage: locket --help
rem
rem Runs "java -jar locket.jar", finding the jar next to this script (an installed copy),
rem in ..\lib or in ..\target (a build tree). JAVA_HOME picks the Java (17 or newer);
rem LOCKET_JAVA_OPTS adds JVM options. The exit status is locket's (COMMAND's when it ran).
setlocal
set "LOCKET_JAR=%~dp0locket.jar"
if not exist "%LOCKET_JAR%" set "LOCKET_JAR=%~dp0..\lib\locket.jar"
if not exist "%LOCKET_JAR%" set "LOCKET_JAR=%~dp0..\target\locket.jar"
if exist "%LOCKET_JAR%" goto found
echo locket: cannot find locket.jar next to "%~f0", in ..\lib or in ..\target 1>&2
echo locket: build it with: mvnw.cmd -B -DskipTests package  (at the top of the source tree) 1>&2
exit /b 70
:found
set "LOCKET_JAVA=java"
if defined JAVA_HOME set "LOCKET_JAVA=%JAVA_HOME%\bin\java.exe"
"%LOCKET_JAVA%" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto %LOCKET_JAVA_OPTS% -jar "%LOCKET_JAR%" %*
exit /b %ERRORLEVEL%
